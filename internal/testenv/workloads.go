package testenv

import "github.com/maestro-dev/maestro/engine/api"

// DemoDeployment is a deployment of the demo image (HTTP on port "http",
// 8080; POD_NAME from the pod's name) in namespace default, its pods
// labelled app=<name>; mutate adjusts it.
func DemoDeployment(image, name string, replicas int32, mutate ...func(*api.Deployment)) *api.Deployment {
	labels := map[string]string{"app": name}
	d := &api.Deployment{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"},
		Spec: api.DeploymentSpec{
			Replicas: api.Ptr(replicas),
			Selector: &api.LabelSelector{MatchLabels: labels},
			Template: api.PodTemplateSpec{
				ObjectMeta: api.ObjectMeta{Labels: labels},
				Spec: api.PodSpec{
					TerminationGracePeriodSeconds: api.Ptr[int64](5),
					Containers: []api.Container{{Name: "app", Image: image, ImagePullPolicy: api.PullNever,
						Ports: []api.ContainerPort{{Name: "http", ContainerPort: 8080}},
						Env:   []api.EnvVar{{Name: "POD_NAME", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
					}},
				},
			},
		},
	}
	for _, m := range mutate {
		m(d)
	}
	return d
}
